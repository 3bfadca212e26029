import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { Agent, buildConnector } from "undici";
import { FingerprintMismatchError } from "./errors.js";

/**
 * How the node's certificate is trusted. Proxmox serves a certificate signed by the cluster's
 * own CA, so the usual choice is to pin the node certificate's SHA-256 fingerprint as Proxmox
 * shows it (Node > System > Certificates; the official Perl client pins it the same way).
 */
export type TlsTrust =
  | { kind: "fingerprint"; fingerprints: readonly string[] }
  | { kind: "ca"; certificates: readonly string[] }
  | { kind: "insecure" }
  | { kind: "system" };

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/**
 * A fingerprint as Proxmox shows it (colon-separated hex, any case), upper-cased. Throws an
 * Error whose message reads after the input's name.
 */
export function parseFingerprint(text: string): string {
  const normal = text.trim().toUpperCase();
  if (!FINGERPRINT.test(normal)) {
    throw new Error(
      "must be a SHA-256 fingerprint as Proxmox shows it: 32 colon-separated hex pairs (AB:CD:...)",
    );
  }
  return normal;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** PEM certificates, each checked to be readable X.509 (the approach of @smoker/health's tls). */
export function parsePemCertificates(pem: string): string[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new Error(
      "must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    );
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (cause) {
      throw new Error(`has an unreadable certificate: ${(cause as Error).message}`);
    }
  }
  return blocks;
}

/**
 * The dispatcher every API request goes through. With a pinned fingerprint the chain is not
 * checked (it is the cluster's private CA) but the certificate must be exactly the pinned one:
 * the check runs once the TLS handshake completes and BEFORE undici writes the request, so a
 * wrong certificate never sees the token. Session resumption is off so that every connection
 * shows its certificate.
 */
export function dispatcherFor(trust: TlsTrust): Agent {
  switch (trust.kind) {
    case "insecure":
      return new Agent({ connect: { rejectUnauthorized: false } });
    case "ca":
      return new Agent({ connect: { ca: [...trust.certificates] } });
    case "system":
      return new Agent();
    case "fingerprint": {
      const pinned = trust.fingerprints.map(parseFingerprint);
      const base = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
      return new Agent({
        connect: (options, callback) => {
          base(options, (error, socket) => {
            if (error !== null) {
              callback(error, null);
              return;
            }
            const got = (socket as TLSSocket).getPeerCertificate?.()?.fingerprint256;
            if (typeof got !== "string" || !pinned.includes(got.toUpperCase())) {
              const mismatch = new FingerprintMismatchError(pinned, got ?? "(none)");
              socket.destroy();
              callback(mismatch, null);
              return;
            }
            callback(null, socket);
          });
        },
      });
    }
  }
}
