// The world outside Terraform for the changes fixture: a local state file
// whose "value" output the instances record (read with terraform_remote_state
// through TF_VAR_outside_state). A test rewrites it to make an outside change.
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function outsideWorld(dir: string): Promise<{ path: string; set(value: string): Promise<void> }> {
  const file = path.join(await mkdtemp(path.join(dir, 'outside-')), 'outside.tfstate');
  let serial = 0;
  const set = async (value: string) => {
    serial += 1;
    const state = {
      version: 4,
      terraform_version: '1.11.4',
      serial,
      lineage: 'outside',
      outputs: { value: { value, type: 'string' } },
      resources: [],
    };
    await writeFile(file, JSON.stringify(state));
  };
  await set('v1');
  return { path: file, set };
}
