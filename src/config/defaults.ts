/**
 * Defaults the workflow code also needs: a manifest recorded in a history from
 * before a field existed lacks it, so the code falls back to the same value.
 * No imports, so the workflow bundle stays free of the schema library.
 */
export const DEFAULT_SPEC_LAYOUT = 'spec/{{ spec_name }}/{{ yaml_version }}/{{ file }}';

/** How often an ec2 build looks for its machine's result, unless the manifest says otherwise. */
export const DEFAULT_EC2_POLL_INTERVAL = '5s';

/** The version in a stored package's file name (cloudify-ui_3.3.0-m4-b274_amd64.deb): naming.packageFileVersion. */
export const DEFAULT_PACKAGE_FILE_VERSION = '{{ version_version_base }}-{{ package_prerelease }}-b{{ build }}';
