// `npm run token -- NAME [ROLES]`: makes a random API token and prints it
// with the API_TOKENS entry that holds only its SHA-256 digest. ROLES as in
// API_TOKENS: read, read+write, owner, or ROLE@PROJECT joined by "+".
import { randomBytes } from 'node:crypto';
import { digestToken, parseStaticTokens } from '../core/access/static-tokens.ts';

const [name = 'ci', roles = 'read+write'] = process.argv.slice(2);
const token = `tfc_${randomBytes(32).toString('base64url')}`;
const entry = `${name}:${roles}:sha256:${digestToken(token).toString('hex')}`;
try {
  parseStaticTokens(entry);
} catch (error) {
  process.stderr.write(`npm run token: ${(error as Error).message}\n`);
  process.exit(2);
}
process.stdout.write(
  `token (give it to the client; it is not stored):\n  ${token}\nAPI_TOKENS entry (for the API):\n  ${entry}\n`,
);
