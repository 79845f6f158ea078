import { UserError } from '../config/errors';
import { TEMPLATE_PLACEHOLDER } from '../config/manifest';

/** Templates use `{{ name }}` or the original version tool's `{{ .name }}`. Unknown names are errors, never silently empty. */
const PLACEHOLDER = TEMPLATE_PLACEHOLDER;

export type TemplateValues = Readonly<Record<string, string | number | undefined>>;

export function templateNames(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
}

export function renderTemplate(template: string, values: TemplateValues, where: string): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) {
      const known = Object.keys(values)
        .filter((key) => values[key] !== undefined)
        .sort()
        .join(', ');
      throw new UserError(`${where}: unknown template value {{ ${name} }}; known values: ${known}`);
    }
    return String(value);
  });
}
