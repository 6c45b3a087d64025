// What each Lua script (lua/) is given besides its keys and the key prefix:
// one object, packed as JSON into ARGV[2] and decoded by the script into a
// table of the same field names. A script still on positional ARGV takes a
// `Positional` list instead (ARGV[2] onward).
export type Positional = ReadonlyArray<string | number>;

export type ScriptArgs = {
  create: Positional;
  'request-delete': Positional;
  'request-retry': Positional;
  'request-plan': Positional;
  'request-update': Positional;
  'mark-planned': Positional;
  approve: Positional;
  'discard-plan': Positional;
  cancel: Positional;
  'mark-running': Positional;
  requeue: Positional;
  finish: Positional;
  discard: Positional;
  'forget-deleted': Positional;
  'migrate-templates': Positional;
  'migrate-drift': Positional;
  'migrate-deleted': Positional;
  'migrate-projects': Positional;
  'migrate-webhook-projects': Positional;
  'migrate-history': Positional;
  'create-project': Positional;
  'delete-project': Positional;
  'create-webhook': Positional;
  'update-webhook': Positional;
  'record-delivery': Positional;
  'admit-delivery': Positional;
  'record-circuit': Positional;
  'create-token': Positional;
  'verify-token': Positional;
  'list-tokens': Positional;
  'revoke-token': Positional;
  'revoke-project-tokens': Positional;
  'create-policy': Positional;
  'update-policy': Positional;
  'delete-policy': Positional;
  override: Positional;
  'mark-policy-failed': Positional;
};
export type ScriptName = keyof ScriptArgs;
