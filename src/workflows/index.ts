export { releaseWorkflow } from './release';
export { artifactWorkflow } from './artifact';
export { retagWorkflow } from './retag';
export { reapWorkflow } from './reap';
export { repositoryBatchWorkflow } from './repositories';

// Worker Versioning (docs/production.md, "Deploying relflow"): a versioned worker pins every workflow to the
// build that started it (src/worker/worker.ts). A release lives for days (a GA waits at its PyPI gate) and
// finishes on the code that wrote its history, with its artifact builds and repository batches (children on
// the same build); a retag and a reaper sweep are minutes long and finish where they started. The nightly
// schedule starts each release, a new workflow, on the deployment's current build.
