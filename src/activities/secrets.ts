import { UserError } from '../config/errors';

/**
 * A secret the manifest names is not in the worker's environment. The same on
 * every attempt: its failure type (the class name, MissingSecret) is never retried.
 */
export class MissingSecret extends UserError {
  constructor(field: string, variable: string, detail = '') {
    super(`${field}: environment variable ${variable} is not set on the worker${detail}`);
    this.name = 'MissingSecret';
  }
}

/**
 * The value of the environment variable a manifest field names: undefined when the field names none, an error
 * when it names one that is not set.
 */
export function readSecret(env: NodeJS.ProcessEnv, field: string, variable: string | undefined): string | undefined {
  if (!variable) return undefined;
  const value = env[variable];
  if (!value) throw new MissingSecret(field, variable);
  return value;
}
