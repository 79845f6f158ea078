export { releaseWorkflow } from './release';
export { artifactWorkflow } from './artifact';
