// Who the API lets in, from the settings loadConfig() read: the static
// tokens of API_TOKENS and the OIDC issuer's settings. Only the API calls it.
import { readFileSync } from 'node:fs';
import { type Config, ConfigError } from '../config.ts';
import { checkOidcSettings, type OidcSettings } from './oidc-settings.ts';
import { parseStaticTokens, type StaticToken } from './static-tokens.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

const NO_TOKENS =
  'no tokens; set API_TOKENS or OIDC_ISSUER (see README, "Authentication"), or AUTH_MODE=insecure-local ' +
  'for a loopback-only development API';

function insecureLocal(config: Config): undefined {
  if (!LOOPBACK_HOSTS.has(config.host)) {
    throw new ConfigError(
      `invalid configuration:\n  AUTH_MODE: insecure-local needs HOST to be a loopback address, not ${config.host}`,
    );
  }
  return undefined;
}

// Who the API lets in: API_TOKENS, and OIDC when OIDC_ISSUER is set; undefined
// in the insecure local mode. It never starts open to anyone: it needs one of
// the two, or the insecure local mode on loopback. Workers never call this.
export function apiAccess(
  config: Config,
): { staticTokens: readonly StaticToken[]; oidc: OidcSettings | undefined } | undefined {
  if (config.api.insecureLocal) return insecureLocal(config);
  const problems: string[] = [];
  let staticTokens: StaticToken[] = [];
  try {
    staticTokens = parseStaticTokens(config.api.tokensSetting);
  } catch (error) {
    problems.push(`API_TOKENS: ${(error as Error).message}`);
  }
  const oidc = checkOidcSettings(config.api.oidcSetting, (file) => readFileSync(file, 'utf8'), problems);
  if (config.api.console.oidcClient && !oidc && !problems.some((p) => p.startsWith('OIDC_'))) {
    problems.push(
      "OIDC_CLIENT_ID: the console's SSO signs in through OIDC_ISSUER, bound by OIDC_BINDINGS; set those " +
        '(and OIDC_AUDIENCE) too',
    );
  }
  if (problems.length === 0 && staticTokens.length === 0 && !oidc) {
    problems.push(`API_TOKENS: ${NO_TOKENS}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { staticTokens, oidc };
}
