export { releaseWorkflow } from './release';
export { artifactWorkflow } from './artifact';
export { retagWorkflow } from './retag';
export { reapWorkflow } from './reap';
export { repositoryBatchWorkflow } from './repositories';
