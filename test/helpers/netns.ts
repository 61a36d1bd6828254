// Two "machines" on one: two network namespaces joined by a veth pair, each end's address
// existing only inside its namespace, so that a multi-node job can run without a second host and
// without touching any network outside the test's own namespaces. Needs root and iproute2.
import { execFileSync } from 'node:child_process';

export interface TwoHosts {
  /** Namespace names. */
  readonly names: [string, string];
  /** Each namespace's address on the link between them. */
  readonly addresses: [string, string];
  /** argv prefix that runs a command inside namespace i. */
  exec(i: 0 | 1): string[];
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function namespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and a veth pair)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return "needs iproute2's ip command";
  }
  return undefined;
}

/** Creates the two namespaces (names from `tag`), linked as 10.213.77.1 <-> 10.213.77.2. */
export function twoHosts(tag: string): TwoHosts {
  const names: [string, string] = [`ft-${tag}-a`, `ft-${tag}-b`];
  const addresses: [string, string] = ['10.213.77.1', '10.213.77.2'];
  const links = [`ft${tag}a`.slice(0, 15), `ft${tag}b`.slice(0, 15)];
  const remove = (): void => {
    for (const name of names) {
      try {
        ip('netns', 'delete', name); // deletes its end of the veth pair, and with it the pair
      } catch {
        // not created
      }
    }
  };
  try {
    for (const name of names) ip('netns', 'add', name);
    // The pair is created inside the first namespace, then one end moves to the second.
    ip('-n', names[0], 'link', 'add', links[0], 'type', 'veth', 'peer', 'name', links[1], 'netns', names[1]);
    for (const i of [0, 1]) {
      ip('-n', names[i], 'addr', 'add', `${addresses[i]}/24`, 'dev', links[i]);
      ip('-n', names[i], 'link', 'set', links[i], 'up');
      ip('-n', names[i], 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { names, addresses, exec: (i) => ['ip', 'netns', 'exec', names[i]], remove };
}
