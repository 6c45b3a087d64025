// `npm run token -- NAME [SCOPES]`: makes a random API token and prints it
// with the API_TOKENS entry that holds only its SHA-256 digest.
import { randomBytes } from 'node:crypto';
import { digestToken, parseTokens } from '../core/tokens.ts';

const [name = 'ci', scopes = 'read+write'] = process.argv.slice(2);
const token = `tfc_${randomBytes(32).toString('base64url')}`;
const entry = `${name}:${scopes}:sha256:${digestToken(token).toString('hex')}`;
try {
  parseTokens(entry);
} catch (error) {
  process.stderr.write(`npm run token: ${(error as Error).message}\n`);
  process.exit(2);
}
process.stdout.write(`token (give it to the client; it is not stored):\n  ${token}\nAPI_TOKENS entry (for the API):\n  ${entry}\n`);
