// One error for a source's answer that trying again will not fix, with a kind the executor, verify
// and the editor read the same way whatever the store (S3, GCS, Azure, a folder). `code` keeps the
// store's own word (NoSuchBucket, forbidden, ContainerNotFound, ECONNREFUSED, ...).

import type { SourceErrorKind } from '../types';
import { RETRYABLE_NETWORK_CODES } from '../util/retry';

export type { SourceErrorKind } from '../types';

/** Node's TLS failures: the endpoint speaks something else, or its certificate is not trusted. */
export const TLS_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO',
]);

const AUTH = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AuthenticationFailed', 'InvalidAuthenticationInfo', 'invalid_grant', 'unauthorized_client', 'invalid_client', 'authError', 'required', 'KeyFileNotFound', 'NoCredentials']);
const DENIED = new Set(['AccessDenied', 'forbidden', 'AuthorizationFailure', 'AuthorizationPermissionMismatch', 'AllAccessDisabled', 'AccountIsDisabled', 'PublicAccessNotPermitted']);
const NOT_FOUND = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound', 'notFound', 'ContainerNotFound', 'BlobNotFound', 'ResourceNotFound', 'ENOENT', 'ENOTFOUND']);
/** Network failures: the one list in src/core/util/retry.ts. */
const NETWORK = RETRYABLE_NETWORK_CODES;

/** The kind of a store's error code or HTTP status. */
export function sourceErrorKind(code: string | undefined, status?: number): SourceErrorKind {
  if (code && TLS_CODES.has(code)) return 'tls';
  if (code && AUTH.has(code)) return 'auth';
  if (code && DENIED.has(code)) return 'denied';
  if (code && NOT_FOUND.has(code)) return 'not-found';
  if (code && NETWORK.has(code)) return 'network';
  if (status === 401) return 'auth';
  if (status === 403) return 'denied';
  if (status === 404) return 'not-found';
  if (status === 429 || status === 503) return 'throttled';
  if (status === 400) return 'invalid';
  return 'other';
}

/** A failure that trying again will not fix: wrong keys, no such bucket, access denied, ... */
export class SourceError extends Error {
  readonly kind: SourceErrorKind;
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    kind?: SourceErrorKind,
  ) {
    super(message);
    this.name = 'SourceError';
    this.kind = kind ?? sourceErrorKind(code, status);
  }
}
