// CRC32C (Castagnoli), the checksum of every WAL record, segment header and snapshot header.
//
// Backed by @node-rs/crc32 (Rust, SSE4.2/ARMv8 CRC instructions, prebuilt binaries shipped as
// optionalDependencies, no install script). Measured here against a table-driven JS
// slice-by-8 and hash-wasm's CRC32 with the Castagnoli polynomial: 1.4 GB/s vs 1.2 vs 0.7 on
// 256-byte records, 6.2 GB/s vs 1.3 vs 2.2 on 1 MiB (docs/storage.md has the table). Recovery
// checksums every byte of the log, so the large-input figure is the one that matters.

import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC32C of `bytes`, continuing from `previous` (the CRC of the bytes before, 0 to start),
 * as an unsigned 32-bit integer. Does not retain `bytes`.
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  return nativeCrc32c(bytes, previous) >>> 0;
}
