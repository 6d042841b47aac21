// PeerIdentity's name matching on certificates as node:tls reports them (the end-to-end
// refusal over TLS is in test/ops/security.cluster.test.ts): a DNS or IP subjectAltName naming the
// claimed member's host passes, another member's host does not, the CN counts only without a
// DNS subjectAltName, and without TLS nothing is checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { hostOf, PeerIdentity, type CallWithAuth } from '../../src/global/peers/peer-identity.ts';

const members = new Map([[1, 'db1.example:7000'], [2, 'db2.example:7000'], [3, '10.0.0.3:7000'], [4, '[::1]:7000']]);
const identity = new PeerIdentity(members, true);

function callWith(names: { san?: string; cn?: string } | null): CallWithAuth {
  const cert = names === null ? undefined : ({ subject: names.cn === undefined ? {} : { CN: names.cn }, subjectaltname: names.san } as unknown as PeerCertificate);
  return { getAuthContext: () => (cert === undefined ? {} : { sslPeerCertificate: cert }) };
}

describe('PeerIdentity', () => {
  it('passes a certificate naming the claimed member host, by DNS or IP subjectAltName', () => {
    assert.equal(identity.problem(callWith({ san: 'DNS:db2.example' }), 2), null);
    assert.equal(identity.problem(callWith({ san: 'DNS:other.example, IP Address:10.0.0.3' }), 3), null);
    assert.equal(identity.problem(callWith({ san: 'IP Address:0:0:0:0:0:0:0:1' }), 4), null);
  });

  it("refuses a certificate naming another member's host, or none", () => {
    assert.match(identity.problem(callWith({ san: 'DNS:db1.example' }), 2) ?? '', /^the client certificate \(DNS:db1\.example\) does not name db2\.example, the host of replica 2 in --peers/);
    assert.match(identity.problem(callWith({ san: 'DNS:10.0.0.3' }), 3) ?? '', /does not name 10\.0\.0\.3/, 'an IP must be an IP subjectAltName');
    assert.match(identity.problem(callWith(null), 2) ?? '', /needs a client certificate/);
    assert.match(identity.problem(callWith({ san: 'DNS:db2.example' }), 9) ?? '', /replica 9 is not a member/);
  });

  it('uses the CN only when the certificate has no DNS subjectAltName', () => {
    assert.equal(identity.problem(callWith({ cn: 'db2.example' }), 2), null);
    assert.match(identity.problem(callWith({ cn: 'db2.example', san: 'DNS:elsewhere.example' }), 2) ?? '', /does not name db2\.example/);
  });

  it('without a claimed id, wants the host of any member', () => {
    assert.equal(identity.problem(callWith({ san: 'DNS:db1.example' })), null);
    assert.match(identity.problem(callWith({ san: 'DNS:client.example' })) ?? '', /names the host of no member in --peers/);
  });

  it('checks nothing without TLS', () => {
    assert.equal(new PeerIdentity(members, false).problem(callWith(null), 2), null);
  });

  it('takes the host out of host:port and [v6]:port', () => {
    assert.equal(hostOf('db1.example:7000'), 'db1.example');
    assert.equal(hostOf('[::1]:7000'), '::1');
  });
});
