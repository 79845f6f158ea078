/** The task queues releases and builds run on, unless RELFLOW_TASK_QUEUE / RELFLOW_BUILD_TASK_QUEUE name others. */
export const RELEASE_TASK_QUEUE = 'relflow';
export const BUILD_TASK_QUEUE = 'relflow-builds';
