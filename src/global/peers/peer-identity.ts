// Ties a peer's identity to its TLS client certificate: a caller of dstore.v1.Replica that
// says it is replica N (Exchange's hello) must present a certificate naming the host of
// replica N's address in --peers; a caller of the other Replica calls (blobs, snapshots),
// which name no replica, one naming the host of some member. "Naming" is TLS hostname
// verification (node:tls checkServerIdentity): an IP address must be an IP subjectAltName;
// a DNS name a DNS subjectAltName (wildcards as usual), or the subject CN when the
// certificate has no DNS subjectAltName.
//
// This asks nothing new of a correct deployment: peers dial each other at their --peers
// addresses and check the server certificate against that host, so each replica's
// certificate already names its own --peers host, and it presents the same certificate when
// it dials. What it adds: a certificate from the CA issued to some other machine (a client's,
// a Local's) cannot speak as a replica even with the peer token, and one replica cannot
// claim to be another on a different host. Its limit: replicas that share a host (or a
// certificate that names several members' hosts, or a wildcard) are not told apart by it.
//
// Without TLS there is no certificate and nothing to check (plaintext is for loopback and
// tests; docs/operations.md "Security model").

import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** The host part of "host:port" or "[v6]:port". */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  const host = colon < 0 ? address : address.slice(0, colon);
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** The names a certificate carries, for error texts: "DNS:a, IP Address:1.2.3.4" or its CN. */
function namesOf(cert: PeerCertificate): string {
  const san = cert.subjectaltname;
  if (typeof san === 'string' && san !== '') return san;
  const cn = cert.subject?.CN;
  return cn === undefined ? 'no names' : `CN=${String(cn)}`;
}

/** What a server call tells of its TLS peer (every grpc-js server call has it). */
export interface CallWithAuth {
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate };
}

export class PeerIdentity {
  /**
   * `members`: every member, this one included (id -> "host:port"); `tls`: whether the port
   * speaks TLS (without it every check passes).
   */
  constructor(
    private readonly members: ReadonlyMap<number, string>,
    private readonly tls: boolean,
  ) {}

  /**
   * Why the caller of `call` may not speak as replica `claimedId` (as any member when it is
   * undefined), or null when its certificate names that member's host.
   */
  problem(call: CallWithAuth, claimedId?: number): string | null {
    if (!this.tls) return null;
    const cert = call.getAuthContext().sslPeerCertificate;
    if (cert === undefined) return 'a peer call needs a client certificate from the cluster\'s CA';
    if (claimedId !== undefined) {
      const address = this.members.get(claimedId);
      if (address === undefined) return `replica ${claimedId} is not a member of this cluster`;
      const host = hostOf(address);
      if (checkServerIdentity(host, cert) === undefined) return null;
      return `the client certificate (${namesOf(cert)}) does not name ${host}, the host of replica ${claimedId} in --peers: a replica's certificate must name the host of its own --peers address`;
    }
    for (const address of this.members.values()) {
      if (checkServerIdentity(hostOf(address), cert) === undefined) return null;
    }
    return `the client certificate (${namesOf(cert)}) names the host of no member in --peers: only replicas may call the Replica service`;
  }
}
