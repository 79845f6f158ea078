import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../src/dev/temporalServer';

/** A toxic of toxiproxy's API: `reset_peer`, `timeout`, `latency` (ms, jitter), `bandwidth` (rate in KB/s), with its attributes. */
export interface Toxic {
  name: string;
  type: 'reset_peer' | 'timeout' | 'latency' | 'bandwidth';
  stream?: 'upstream' | 'downstream';
  attributes: Record<string, number>;
}

/** toxiproxy (the server built by bootstrap --production): TCP proxies whose connections the suite can break. */
export interface Toxiproxy {
  /** A proxy to `upstream` (host:port); returns the address to use instead. */
  proxy(name: string, upstream: string): Promise<string>;
  add(proxy: string, toxic: Toxic): Promise<void>;
  remove(proxy: string, toxic: string): Promise<void>;
  stop(): void;
}

export async function startToxiproxy(binary: string): Promise<Toxiproxy> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['-host', '127.0.0.1', '-port', String(port)], { stdio: 'ignore' });
  const api = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw new Error(`toxiproxy ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  };
  for (let attempt = 0; ; attempt += 1) {
    const up = await fetch(`${api}/version`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (attempt > 100) throw new Error(`toxiproxy did not answer on ${api}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    proxy: async (name, upstream) => {
      const listen = `127.0.0.1:${await freePort()}`;
      await call('POST', '/proxies', { name, listen, upstream, enabled: true });
      return listen;
    },
    add: (proxy, toxic) => call('POST', `/proxies/${proxy}/toxics`, { stream: 'downstream', toxicity: 1, ...toxic }),
    remove: (proxy, toxic) => call('DELETE', `/proxies/${proxy}/toxics/${toxic}`),
    stop: () => void child.kill('SIGKILL'),
  };
}
