// Who made the request: the principal authenticate() (auth.ts) found for
// it, read by the role checks, the audit log and the limits alike.
import type { Request } from 'express';
import type { Principal } from '../core/access/roles.ts';

export function principalOf(req: Request): Principal {
  const principal = req.res?.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf() called before authenticate()');
  return principal;
}
