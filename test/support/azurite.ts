// Azurite (Microsoft's Blob emulator) development account: the well-known name and key every
// Azurite install accepts (https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
// Not a secret; the one place the tests spell it.

export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's Blob endpoint on 127.0.0.1:`port` (path-style: the account is the first path segment). */
export function azuriteEndpoint(port: number, account = AZURITE_ACCOUNT): string {
  return `http://127.0.0.1:${port}/${account}`;
}

/** A connection string for Azurite's Blob endpoint; `key` and `account` default to the development ones. */
export function azuriteConnectionString(endpoint: string, key = AZURITE_KEY, account = AZURITE_ACCOUNT): string {
  return `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=${endpoint};`;
}
