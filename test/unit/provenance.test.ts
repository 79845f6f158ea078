import { strict as assert } from 'node:assert';
import { dssePae, provenanceStatement, statementSource } from '../../src/release/provenance';

describe('provenance: in-toto statements in DSSE envelopes', function () {
  it("encodes what is signed as DSSE v1's pre-authentication encoding (the spec's example), lengths in bytes", function () {
    assert.equal(
      dssePae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    assert.equal(dssePae('t', Buffer.from('é')).toString(), 'DSSEv1 1 t 2 é');
  });

  it('makes one statement per build: its outputs as subjects, its source as the resolved dependency', function () {
    const statement = provenanceStatement(
      {
        releaseId: 'cloudify-3.4',
        artifact: 'ui',
        builder: 'ec2',
        command: 'make',
        environment: ['RELFLOW_SHA', 'PATH'],
        repository: { name: 'cloudify-ui', url: 'https://github.com/cloudify-cosmo/cloudify-ui.git' },
        ref: 'refs/tags/3.4',
        commit: 'a'.repeat(40),
        machine: { id: 'i-0abc', imageId: 'ami-1', instanceType: 't3.large' },
        temporal: { namespace: 'default', workflowId: 'cloudify-3.4/artifact/ui', runId: 'run-1' },
        startedOn: '2026-11-29T00:00:00.000Z',
        finishedOn: '2026-11-29T00:10:00.000Z',
        reused: false,
        files: [{ file: 'ui.tgz', sha256: 'b'.repeat(64) }],
      },
      '0.1.0',
    );
    assert.deepEqual(statement.subject, [{ name: 'ui.tgz', digest: { sha256: 'b'.repeat(64) } }]);
    assert.deepEqual(statement.predicate.buildDefinition.internalParameters.environment, ['PATH', 'RELFLOW_SHA']);
    assert.deepEqual(statement.predicate.buildDefinition.internalParameters.machine, {
      id: 'i-0abc',
      imageId: 'ami-1',
      instanceType: 't3.large',
    });
    assert.equal(statement.predicate.runDetails.builder.id, 'https://github.com/relflow/relflow/builders/ec2');
    assert.equal(statement.predicate.runDetails.metadata.invocationId, 'temporal://default/cloudify-3.4/artifact/ui/run-1');
    assert.deepEqual(statementSource(statement), {
      url: 'https://github.com/cloudify-cosmo/cloudify-ui.git',
      ref: 'refs/tags/3.4',
      commit: 'a'.repeat(40),
    });
  });
});
