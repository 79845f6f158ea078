import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPypiActivities } from '../../src/activities/pypi';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { stopServices, startPypiServer } from '../../src/dev/localServices';
import { ensureTools, pythonTool } from '../../src/worker/tools';
import { createRemote, git } from '../support/gitRepos';
import { tempDir } from '../support/temporal';

describe('PyPI publishing on pypiserver with twine (python -m build, the tools Python)', function () {
  this.timeout(240_000);
  after(() => stopServices());

  it('builds a flit package in isolation, reads its name from the metadata, publishes once and checks the index sha256', async function () {
    const root = tempDir('pypi');
    // The repository name says nothing of the distribution name, and the backend is not setuptools.
    const remote = createRemote(root, {
      name: 'cloudify-flit-plugin',
      files: {
        'pyproject.toml':
          '[build-system]\nrequires = ["flit_core>=3.2,<4"]\nbuild-backend = "flit_core.buildapi"\n\n[project]\nname = "relflow_Flit.Demo"\nversion = "3.4"\ndescription = "demo"\n\n[tool.flit.module]\nname = "relflow_flit_demo"\n',
        'relflow_flit_demo/__init__.py': '"""demo"""\n',
      },
    });
    const pypiUrl = await startPypiServer(join(root, 'packages'));
    const pythonBin = pythonTool(ensureTools(), 'python');
    const publish = () =>
      createPypiActivities(new GitWorkspace(tempDir('pypi-workspace')), pythonBin, process.env).publishPythonPackage({
        pypi: { repositoryUrl: pypiUrl },
        target: { repository: { name: 'cloudify-flit-plugin', url: remote }, sha: git(remote, 'rev-parse', 'master'), packageDir: '.' },
      });
    const first = await publish();
    assert.deepEqual(first.uploaded.sort(), ['relflow_flit_demo-3.4-py2.py3-none-any.whl', 'relflow_flit_demo-3.4.tar.gz']);
    assert.deepEqual(first.skipped, []);
    const second = await publish();
    assert.deepEqual(second.uploaded, [], 'a re-run uploads nothing');
    assert.equal(second.skipped.length, 2);
    const venv = join(root, 'pip-venv');
    execFileSync('python3', ['-m', 'venv', venv]);
    execFileSync(
      join(venv, 'bin', 'pip'),
      ['install', '--quiet', '--no-deps', '--index-url', `${pypiUrl}/simple/`, 'relflow-flit-demo==3.4'],
      { encoding: 'utf8' },
    );
    assert.match(execFileSync(join(venv, 'bin', 'pip'), ['show', 'relflow-flit-demo'], { encoding: 'utf8' }), /Version: 3\.4/);
  });

  it('an index that checks credentials (pypiserver with an htpasswd file): a wrong password publishes nothing, the right one publishes', async function () {
    const root = tempDir('pypi-auth');
    const remote = createRemote(root, {
      name: 'cloudify-auth-plugin',
      files: {
        'setup.py': 'from setuptools import setup\nsetup(name="relflow-auth-demo", version="3.4", py_modules=["demo"])\n',
        'demo.py': 'x = 1\n',
      },
    });
    const pythonBin = pythonTool(ensureTools(), 'python');
    const htpasswd = join(root, 'htpasswd');
    // bcrypt, as `htpasswd -c -B` writes it; pypiserver reads it with passlib.
    execFileSync(pythonBin, [
      '-c',
      'import sys; from passlib.apache import HtpasswdFile; f = HtpasswdFile(sys.argv[1], new=True, default_scheme="bcrypt"); f.set_password("release-bot", "s3cret-upload"); f.save()',
      htpasswd,
    ]);
    const packages = join(root, 'packages');
    const pypiUrl = await startPypiServer(packages, { htpasswd });
    // The worker sends the credentials to this index only.
    const secrets = join(root, 'secrets.yaml');
    writeFileSync(secrets, `secrets:\n  PYPI_USER: { hosts: ['${pypiUrl}/'] }\n  PYPI_PASSWORD: { hosts: ['${pypiUrl}/'] }\n`);
    const publish = (password: string) =>
      createPypiActivities(new GitWorkspace(tempDir('pypi-auth-workspace')), pythonBin, {
        ...process.env,
        RELFLOW_SECRETS: secrets,
        PYPI_USER: 'release-bot',
        PYPI_PASSWORD: password,
      }).publishPythonPackage({
        pypi: { repositoryUrl: pypiUrl, usernameEnv: 'PYPI_USER', passwordEnv: 'PYPI_PASSWORD' },
        target: { repository: { name: 'cloudify-auth-plugin', url: remote }, sha: git(remote, 'rev-parse', 'master'), packageDir: '.' },
      });
    await assert.rejects(publish('wrong-password'), (error: Error) => {
      assert.match(error.message, /403|Forbidden|credentials|Unauthorized/i);
      assert.doesNotMatch(error.message, /wrong-password/, 'the password is in no error');
      return true;
    });
    assert.deepEqual(readdirSync(packages), [], 'nothing was stored with a wrong password');
    const published = await publish('s3cret-upload');
    assert.deepEqual(published.uploaded.sort(), ['relflow_auth_demo-3.4-py3-none-any.whl', 'relflow_auth_demo-3.4.tar.gz']);
  });

  it("a package's setup.py runs in the sandbox: it sees no worker process and writes nothing outside its directory", async function () {
    const root = tempDir('pypi-sandbox');
    const outside = tempDir('pypi-outside');
    const setup = [
      'import os, sys',
      `if os.path.exists("/proc/${process.pid}/environ"): sys.exit("setup.py sees the worker's process")`,
      'try:',
      `    open(${JSON.stringify(join(outside, 'from-setup.py'))}, "w").write("planted")`,
      'except OSError:',
      '    pass',
      'from setuptools import setup',
      'setup(name="relflow-sandboxed-demo", version="3.4", py_modules=["demo"])',
    ].join('\n');
    const remote = createRemote(root, {
      name: 'cloudify-sandboxed-plugin',
      files: {
        'setup.py': `${setup}\n`,
        'demo.py': 'x = 1\n',
        // What `import setuptools` finds first when the package's directory is on sys.path.
        'setuptools.py': `open(${JSON.stringify(join(outside, 'from-setuptools.py'))}, "w").write("planted")\n`,
      },
    });
    const pypiUrl = await startPypiServer(join(root, 'packages'));
    const published = await createPypiActivities(
      new GitWorkspace(tempDir('pypi-workspace')),
      pythonTool(ensureTools(), 'python'),
      process.env,
    ).publishPythonPackage({
      pypi: { repositoryUrl: pypiUrl },
      target: { repository: { name: 'cloudify-sandboxed-plugin', url: remote }, sha: git(remote, 'rev-parse', 'master'), packageDir: '.' },
    });
    assert.equal(published.uploaded.length, 2, 'built and published');
    assert.deepEqual(readdirSync(outside), [], "neither the repository's setup.py nor its setuptools.py wrote outside the build");
  });
});
