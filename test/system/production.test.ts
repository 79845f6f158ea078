import { awsDestination, workerSecrets } from '../../src/activities/secrets';
import { smtpDestination } from '../../src/activities/notify';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadManifest } from '../../src/config/loadManifest';
import { projectRoot } from '../../src/worker/tools';
import { postgresBinDir } from '../support/postgres';
import { productionTools } from '../support/productionServer';
import { serviceUnit } from '../support/systemdUnit';

interface Service {
  image?: string;
  build?: string;
  ports?: string[];
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  env_file?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every TEMPORAL_* and RELFLOW_* variable the worker code reads. */
function variablesReadBySource(): string[] {
  const names = new Set<string>();
  for (const file of sourceFiles(join(projectRoot, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // Reads only: `env.NAME`, `env['NAME']`, `readPem('NAME', ...)`; the RELFLOW_* values relflow sets for build commands are not read.
    for (const match of text.matchAll(/(?:env\.|env\['|readPem\(')((?:TEMPORAL|RELFLOW)_[A-Z_]+)/g)) names.add(match[1]);
  }
  // Tools of the development machine, not of a worker: the dev server binary, its cache, the demo's sandbox.
  for (const developmentOnly of ['RELFLOW_TEMPORAL_CLI', 'RELFLOW_CACHE_DIR', 'RELFLOW_DEMO_DIR']) names.delete(developmentOnly);
  return [...names].sort();
}

describe('production topology (docker-compose.yml, Dockerfile), checked without a Docker engine', function () {
  const compose = parse(readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
  const services = compose.services;

  it('has PostgreSQL, its schema job, Temporal, the namespace job, the Web UI and two relflow workers', function () {
    assert.deepEqual(Object.keys(services).sort(), [
      'postgresql',
      'relflow-build-worker',
      'relflow-setup-namespace',
      'relflow-worker',
      'temporal',
      'temporal-schema',
      'temporal-ui',
    ]);
    // No auto-setup (deprecated): the server image runs the repository's config template, after the schema job.
    assert.match(services.temporal.image ?? '', /^temporalio\/server:/);
    assert.ok(services.temporal.volumes?.includes('./deploy/temporal-server.yaml:/etc/temporal/relflow/temporal-server.yaml:ro'));
    assert.match(JSON.stringify(services.temporal), /--config-file \/etc\/temporal\/relflow\/temporal-server\.yaml --allow-no-auth start/);
    assert.deepEqual(services.temporal.depends_on, { 'temporal-schema': { condition: 'service_completed_successfully' } });
    assert.ok(services['temporal-schema'].volumes?.includes('./deploy/temporal-schema.sh:/deploy/temporal-schema.sh:ro'));
    assert.deepEqual(services['relflow-worker'].depends_on?.['relflow-setup-namespace'], { condition: 'service_completed_successfully' });
    assert.equal(services['relflow-worker'].environment?.RELFLOW_TASK_QUEUE, 'relflow');
    assert.equal(services['relflow-build-worker'].environment?.RELFLOW_TASK_QUEUE, 'relflow-builds');
  });

  it('pins every image by version', function () {
    for (const [name, service] of Object.entries(services)) {
      if (!service.image) continue;
      assert.match(service.image, /:[0-9][\w.-]*$/, `${name}: ${service.image} is not pinned`);
      assert.doesNotMatch(service.image, /:latest$/);
    }
  });

  it('gives every long-running service a health check, and publishes the gRPC and Web UI ports', function () {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'temporal-schema' || name === 'relflow-setup-namespace') continue;
      assert.ok(service.healthcheck?.test?.length, `${name} has no health check`);
    }
    // Published on this host only: other hosts come through a tunnel or an authenticating proxy.
    assert.deepEqual(services.temporal.ports, ['127.0.0.1:7233:7233']);
    assert.deepEqual(services['temporal-ui'].ports, ['127.0.0.1:8233:8080']);
  });

  it('registers the namespace and the search attributes with relflow setup-namespace, as on a server of your own', function () {
    assert.deepEqual((services['relflow-setup-namespace'] as { command?: string[] }).command, [
      'node',
      'bin/relflow',
      'setup-namespace',
      '--retention',
      '30d',
    ]);
  });

  it('passes every variable the worker reads, and the secrets through relflow.env', function () {
    const read = variablesReadBySource();
    assert.ok(read.length >= 10, read.join(', '));
    for (const worker of ['relflow-worker', 'relflow-build-worker']) {
      const environment = Object.keys(services[worker].environment ?? {});
      assert.deepEqual(
        read.filter((name) => !environment.includes(name)),
        [],
        `${worker} misses variables`,
      );
    }
    assert.deepEqual(services['relflow-worker'].env_file, ['relflow.env']);
    assert.deepEqual(services['relflow-build-worker'].env_file, ['relflow-build.env']);
    const secretsFile = readFileSync(join(projectRoot, 'relflow.env.example'), 'utf8');
    const example = JSON.stringify(loadManifest(join(projectRoot, 'relflow.example.yaml')));
    const secretNames = [...example.matchAll(/"\w+Env":"([A-Z_]+)"/g)].map((match) => match[1]);
    assert.ok(secretNames.length >= 8);
    for (const name of secretNames) assert.match(secretsFile, new RegExp(`^${name}=`, 'm'), `${name} in relflow.env.example`);
  });

  it('has a systemd unit per worker kind that sets only variables relflow reads, with its secrets in an EnvironmentFile', function () {
    const read = variablesReadBySource();
    for (const [name, queue, secrets] of [
      ['relflow-worker.service', 'relflow', '/etc/relflow/relflow.env'],
      ['relflow-build-worker.service', 'relflow-builds', '/etc/relflow/relflow-build.env'],
    ]) {
      const unit = serviceUnit(name);
      const unknown = Object.keys(unit.environment).filter((variable) => !read.includes(variable));
      assert.deepEqual(unknown, [], `${name} sets variables relflow does not read`);
      assert.equal(unit.environment.RELFLOW_TASK_QUEUE, queue);
      assert.equal(unit.environment.RELFLOW_INLINE_MANIFESTS, '0', `${name} takes manifests by reference only`);
      assert.equal(unit.environmentFiles[0], secrets);
      assert.deepEqual(unit.execStart.slice(1), ['/opt/relflow/bin/relflow', 'worker']);
      // The bundle the worker loads is the one its ExecStartPre writes.
      assert.deepEqual(unit.execStartPre, [
        ['/usr/bin/node', '/opt/relflow/bin/relflow', 'worker', '--write-bundle', unit.environment.RELFLOW_WORKFLOW_BUNDLE],
      ]);
      // The compose file's workers and the units agree on what they set, but for paths and addresses.
      const composed = services[name === 'relflow-worker.service' ? 'relflow-worker' : 'relflow-build-worker'].environment ?? {};
      for (const variable of ['RELFLOW_TASK_QUEUE', 'RELFLOW_BUILD_TASK_QUEUE', 'RELFLOW_SANDBOX', 'TEMPORAL_TLS_SERVER_NAME']) {
        assert.equal(unit.environment[variable], String(composed[variable]).replace(/^\$\{\w+:-(.*)\}$/, '$1'), `${name} ${variable}`);
      }
    }
    const build = serviceUnit('relflow-build-worker.service').environment;
    assert.match(build.TEMPORAL_TLS_CLIENT_CERT_PATH, /build-worker\.pem$/, 'the build worker has its own identity');
    assert.equal(build.RELFLOW_MANIFEST_DIR, undefined, 'the build worker starts no release');
  });

  it('mounts a secrets file that lets each secret of the example manifest go where the example sends it, and nowhere else', function () {
    for (const worker of ['relflow-worker', 'relflow-build-worker'])
      assert.equal(services[worker].environment?.RELFLOW_SECRETS, '/config/secrets.yaml');
    assert.ok(services['relflow-worker'].volumes?.includes('./config:/config:ro'));
    assert.ok(services['relflow-build-worker'].volumes?.includes('./config-build:/config:ro'));
    const env = { RELFLOW_SECRETS: join(projectRoot, 'relflow.secrets.example.yaml') };
    const secrets = workerSecrets(env);
    const manifest = loadManifest(join(projectRoot, 'relflow.example.yaml'));
    const ci = manifest.ci as Extract<typeof manifest.ci, { provider: 'github' }>;
    const uses: [string, string | undefined, string][] = [
      ...manifest.repositories.map((repository): [string, string | undefined, string] => [
        'git.tokenEnv',
        manifest.git.tokenEnv,
        repository.url,
      ]),
      ['ci.tokenEnv', ci.tokenEnv, `${ci.apiUrl}/repos/${ci.owner}/x/commits/3.4/status`],
      ['pypi.passwordEnv', manifest.pypi?.passwordEnv, manifest.pypi?.repositoryUrl ?? ''],
      ['readthedocs.tokenEnv', manifest.readthedocs?.tokenEnv, `${manifest.readthedocs?.apiUrl}/projects/x/`],
      ['storage.secretAccessKeyEnv', manifest.storage?.secretAccessKeyEnv, awsDestination('storage', 's3', manifest.storage ?? {})],
      ['ec2.secretAccessKeyEnv', manifest.ec2.secretAccessKeyEnv, awsDestination('ec2', 'ec2', manifest.ec2)],
      ['smtp.passwordEnv', manifest.notifications.email?.smtp?.passwordEnv, smtpDestination(manifest.notifications.email?.smtp as never)],
    ];
    for (const [field, name, destination] of uses) {
      assert.ok(name, field);
      assert.equal(secrets.refusal(field, name, destination), undefined, `${field} -> ${destination}`);
      assert.match(secrets.refusal(field, name, 'https://attacker.example/') ?? '', /may not be sent to https:\/\/attacker\.example\//);
    }
  });

  it('separates duties: the build worker gets storage and EC2 credentials and the public half of the release key, nothing else', function () {
    const build = workerSecrets({ RELFLOW_SECRETS: join(projectRoot, 'relflow-build.secrets.example.yaml') });
    const release = workerSecrets({ RELFLOW_SECRETS: join(projectRoot, 'relflow.secrets.example.yaml') });
    assert.equal(build.releaseSigningKey, undefined, 'no signing key');
    assert.equal(build.releasePublicKey, '/config/release_key.pub');
    assert.equal(release.releaseSigningKey, '/config/release_key');
    const manifest = loadManifest(join(projectRoot, 'relflow.example.yaml'));
    const storage = awsDestination('storage', 's3', manifest.storage ?? {});
    assert.equal(build.refusal('storage.secretAccessKeyEnv', 'AWS_SECRET_ACCESS_KEY', storage), undefined);
    assert.equal(build.refusal('ec2.secretAccessKeyEnv', 'AWS_SECRET_ACCESS_KEY', awsDestination('ec2', 'ec2', manifest.ec2)), undefined);
    for (const [field, name, destination] of [
      ['git.tokenEnv', manifest.git.tokenEnv, manifest.repositories[0].url],
      ['pypi.passwordEnv', manifest.pypi?.passwordEnv, manifest.pypi?.repositoryUrl],
      ['readthedocs.tokenEnv', manifest.readthedocs?.tokenEnv, `${manifest.readthedocs?.apiUrl}/projects/x/`],
    ] as const) {
      assert.ok(name, field);
      assert.match(build.refusal(field, name, destination ?? '') ?? '', new RegExp(name), `${field}: not the build worker's`);
    }
    const env = readFileSync(join(projectRoot, 'relflow-build.env.example'), 'utf8');
    assert.deepEqual(
      [...env.matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]),
      ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
    );
  });

  it('speaks mutual TLS to the Temporal frontend: every client has a certificate of the gen-certs.sh CA', function () {
    const env = (service: string) => (services[service].environment ?? {}) as Record<string, string>;
    // The server's TLS is the config template's (deploy/temporal-server.yaml), which requires client certificates.
    assert.deepEqual(
      [env('temporal').TEMPORAL_TLS_CERT, env('temporal').TEMPORAL_TLS_KEY, env('temporal').TEMPORAL_TLS_CA],
      ['/certs/server.pem', '/certs/server.key', '/certs/ca.pem'],
    );
    const template = readFileSync(join(projectRoot, 'deploy', 'temporal-server.yaml'), 'utf8');
    assert.equal(template.match(/requireClientAuth: true/g)?.length, 2, 'frontend and internode require client certificates');
    assert.match(env('relflow-worker').TEMPORAL_TLS_CLIENT_CERT_PATH, /\/certs\/worker\.pem/);
    assert.equal(env('relflow-build-worker').TEMPORAL_TLS_CLIENT_CERT_PATH, '/certs/build-worker.pem');
    for (const worker of ['relflow-worker', 'relflow-build-worker'])
      assert.match(env(worker).TEMPORAL_TLS_SERVER_CA_CERT_PATH, /\/certs\/ca\.pem/);
    assert.equal(env('relflow-setup-namespace').TEMPORAL_TLS_CLIENT_CERT_PATH, '/certs/worker.pem');
    assert.equal(env('temporal-ui').TEMPORAL_TLS_CERT, '/certs/ui.pem');
    // Each service mounts the CA certificate and its own pair, nothing else of ./certs: never ca.key, never another's key.
    const own: Record<string, string> = {
      temporal: 'server',
      'relflow-setup-namespace': 'worker',
      'temporal-ui': 'ui',
      'relflow-worker': 'worker',
      'relflow-build-worker': 'build-worker',
    };
    for (const [name, service] of Object.entries(services)) {
      const certificates = (service.volumes ?? []).filter((volume) => volume.startsWith('./certs'));
      const expected = own[name]
        ? ['ca.pem', `${own[name]}.pem`, `${own[name]}.key`].map((file) => `./certs/${file}:/certs/${file}:ro`)
        : [];
      assert.deepEqual(certificates, expected, `${name} mounts only its own certificate`);
    }
    const script = readFileSync(join(projectRoot, 'scripts', 'gen-certs.sh'), 'utf8');
    for (const leaf of ['server', 'worker', 'build-worker', 'ui']) assert.match(script, new RegExp(`^leaf ${leaf} `, 'm'), leaf);
  });

  it('publishes metrics on this host only, keeps the Web UI read-only, and sends no secret or certificate into the image', function () {
    for (const worker of ['relflow-worker', 'relflow-build-worker'])
      for (const port of services[worker].ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${worker} publishes ${port}`);
    assert.equal((services['temporal-ui'].environment as Record<string, string>).TEMPORAL_DISABLE_WRITE_ACTIONS, 'true');
    const ignored = readFileSync(join(projectRoot, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['certs', 'config', '*.env', '*.key', '.git', 'node_modules']) assert.ok(ignored.includes(pattern), pattern);
  });

  it("gives the server relflow's dynamic configuration, the file the harness and the dev server read", function () {
    const temporal = services.temporal;
    const path = (temporal.environment as Record<string, string>).DYNAMIC_CONFIG_FILE_PATH;
    assert.ok(
      temporal.volumes?.includes(`./deploy/temporal-dynamicconfig.yaml:${path}:ro`),
      `${path} is deploy/temporal-dynamicconfig.yaml`,
    );
  });

  it('keeps Postgres data and the workspaces in volumes', function () {
    assert.ok(services.postgresql.volumes?.some((volume) => volume.startsWith('postgres-data:')));
    assert.ok(services['relflow-worker'].volumes?.some((volume) => volume.startsWith('workspace:')));
    assert.deepEqual(Object.keys(compose.volumes).sort(), ['build-workspace', 'postgres-data', 'workspace']);
  });

  it('builds a multi-stage, non-root worker image with production dependencies, git, python3 and twine', function () {
    const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
    assert.equal(dockerfile.match(/^FROM /gm)?.length, 2);
    // Node 24 LTS, pinned to the minor the suite also runs on (scripts/versions.json node24): Node 20 is past its end of life.
    const versions = JSON.parse(readFileSync(join(projectRoot, 'scripts', 'versions.json'), 'utf8')) as { node24: string };
    const minor = versions.node24.split('.').slice(0, 2).join('.');
    assert.deepEqual(
      [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1]),
      [`node:${minor}-bookworm`, `node:${minor}-bookworm-slim`],
    );
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /apt-get install .*\bgit\b.*\bpython3\b/);
    assert.match(dockerfile, /pip install .*twine==/);
    assert.match(dockerfile, /^CMD \["node", "bin\/relflow", "worker"\]$/m);
  });

  it('runs the engine of scripts/versions.json, the one the test harness runs', function () {
    const versions = JSON.parse(readFileSync(join(projectRoot, 'scripts', 'versions.json'), 'utf8')) as Record<string, string>;
    assert.match(services.postgresql.image ?? '', new RegExp(`^postgres:${versions.postgresql}\\.\\d+$`));
    assert.equal(services.temporal.image, `temporalio/server:${versions.temporalServer}`);
    assert.equal(services['temporal-schema'].image, `temporalio/admin-tools:${versions.temporalServer}`);
    assert.equal(services['temporal-ui'].image, `temporalio/ui:${versions.webUi}`);
    // The harness (test/support/production.ts): Debian's PostgreSQL of that major version, the server built at that version.
    assert.match(
      execFileSync(join(postgresBinDir(), 'postgres'), ['--version'], { encoding: 'utf8' }),
      new RegExp(`\\(PostgreSQL\\) ${versions.postgresql}\\.`),
    );
    assert.match(
      execFileSync(productionTools().temporalServer, ['--version'], { encoding: 'utf8' }),
      new RegExp(`version ${versions.temporalServer.replace(/\./g, '\\.')}\\b`),
    );
  });
});
