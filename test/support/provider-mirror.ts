// Finds a local filesystem mirror of the hashicorp/aws provider, so that the
// tests that need the real provider (its schema, its validators) can run
// Terraform offline, and writes the CLI configuration that makes
// `terraform init` install from it and from nowhere else. Without a mirror
// those tests skip, saying where they looked.
import { readdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

const PROVIDER = 'registry.terraform.io/hashicorp/aws';

// Where to look, in order: the setting, then Terraform's own implied local
// mirror directories on Unix (its CLI configuration documentation), then
// where this project's CI images unpack the provider.
export function mirrorCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME ?? homedir();
  const dataHome = env.XDG_DATA_HOME ?? path.join(home, '.local', 'share');
  const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter(Boolean);
  return [
    ...(env.TEST_PROVIDER_MIRROR ? [env.TEST_PROVIDER_MIRROR] : []),
    path.join(home, '.terraform.d', 'plugins'),
    path.join(dataHome, 'terraform', 'plugins'),
    ...dataDirs.map((dir) => path.join(dir, 'terraform', 'plugins')),
    '/opt/tf-plugins',
  ];
}

// Terraform's name for this machine's platform, such as linux_amd64.
export function platform(): string {
  const arch = ({ x64: 'amd64', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;
  return `${process.platform}_${arch}`;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

// The provider versions a mirror root holds for this platform, in either of
// Terraform's layouts: unpacked (<version>/<platform>/terraform-provider-aws_*)
// or packed (terraform-provider-aws_<version>_<platform>.zip).
async function versionsIn(root: string): Promise<string[]> {
  const dir = path.join(root, PROVIDER);
  const found = new Set<string>();
  for (const entry of await entries(dir)) {
    const packed = new RegExp(`^terraform-provider-aws_(.+)_${platform()}\\.zip$`).exec(entry);
    if (packed?.[1]) found.add(packed[1]);
    else if (
      (await entries(path.join(dir, entry, platform()))).some((file) => file.startsWith('terraform-provider-aws'))
    )
      found.add(entry);
  }
  return [...found].sort();
}

export type Mirror = { root: string; versions: string[] } | { missing: string };

export async function findProviderMirror(candidates = mirrorCandidates()): Promise<Mirror> {
  for (const root of candidates) {
    const versions = await versionsIn(root);
    if (versions.length > 0) return { root, versions };
  }
  return {
    missing: `no filesystem mirror of ${PROVIDER} for ${platform()} (set TEST_PROVIDER_MIRROR to one; looked in ${candidates.join(', ')})`,
  };
}

// A CLI configuration that installs the AWS provider from the mirror and
// refuses to reach the registry for it, so a test never waits on a network.
export async function writeMirrorCliConfig(file: string, root: string): Promise<void> {
  await writeFile(
    file,
    `provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(root)}
    include = [${JSON.stringify(PROVIDER)}]
  }
  direct {
    exclude = [${JSON.stringify(PROVIDER)}]
  }
}
`,
  );
}
