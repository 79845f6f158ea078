/**
 * Defaults the workflow code also needs: a manifest recorded in a history from
 * before a field existed lacks it, so the code falls back to the same value.
 * No imports, so the workflow bundle stays free of the schema library.
 */
export const DEFAULT_SPEC_LAYOUT = 'spec/{{ spec_name }}/{{ yaml_version }}/{{ file }}';
