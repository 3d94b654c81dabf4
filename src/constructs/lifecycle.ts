/**
 * The Terraform wiring of an imported key, built once and rendered by two thin adapters: Terraform's built-in
 * `terraform_data` (the default) and `null_resource` from the hashicorp/null provider (on cdktf through
 * `@cdktf/provider-null` when it is installed; otherwise, and on cdktn, which has no prebuilt null provider, as
 * the same resource declared generically, with the same `required_providers` entry). Both get the same
 * replace triggers and the same provisioners; only where a destroy provisioner reads its recorded values from
 * differs (`self.input.*` versus `self.triggers.*`).
 */
import type { Construct } from 'constructs';
import { dependencyOn, framework, frameworkName, TerraformStack, terraformVersionValidation, type LocalExecProvisioner, type TerraformResource, type TerraformResourceLifecycle } from './framework';

/** Which Terraform resource carries the key's lifecycle. */
export type LifecycleResourceType = 'terraform_data' | 'null_resource';

/** A replace-trigger value. Maps are label/annotation maps. */
export type TriggerValue = string | number | boolean | Readonly<Record<string, string>>;

/**
 * One argument of a provisioner's command line: a literal, or `prefix` followed by a value the resource
 * recorded at create (the only kind of reference Terraform allows in a destroy provisioner).
 */
export type Argument = string | { readonly recorded: string; readonly prefix?: string } | { readonly selfId: true; readonly prefix?: string };

/** Everything Terraform needs to know about one lifecycle resource, independent of its resource type. */
export interface LifecycleSpec {
  /** Any change here replaces the resource. Never holds the wrapped blob or material. */
  readonly triggers: Readonly<Record<string, TriggerValue>>;
  /** The trigger keys the destroy provisioner reads back from the resource itself. */
  readonly recorded: readonly string[];
  /** The full command line (executable first) run once when the resource is created, if anything should happen then. */
  readonly onCreate?: readonly string[];
  /** The full command line run when the resource is destroyed, if anything should happen then. */
  readonly onDestroy?: readonly Argument[];
}

/** Terraform meta-arguments the adapters pass through. */
export interface LifecycleMeta {
  readonly lifecycle?: TerraformResourceLifecycle;
  /** The resources this one is ordered after, in the same stack. */
  readonly dependsOn?: readonly TerraformResource[];
}

/** The resource `make` builds from `config` (the lifecycle meta-argument only), ordered after `meta.dependsOn`. */
function withMeta<R extends TerraformResource>(meta: LifecycleMeta, make: (config: { lifecycle?: TerraformResourceLifecycle }) => R): R {
  const resource = make(meta.lifecycle === undefined ? {} : { lifecycle: meta.lifecycle });
  if (meta.dependsOn !== undefined && meta.dependsOn.length > 0) resource.dependsOn = [...(resource.dependsOn ?? []), ...meta.dependsOn.map(dependencyOn)];
  return resource;
}

/**
 * Escapes Terraform template sequences: in Terraform's JSON syntax every string is a template, so a
 * description containing `${` would otherwise be evaluated as an expression.
 */
export function escapeTemplate(value: string): string {
  // A cdktf token (`${TfToken[…]}`) is ours, not the user's (settings that hold tokens are refused at synth):
  // it must reach Terraform as the reference it stands for.
  return value.replace(/\$\{(?!TfToken\[)/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/** JSON with object keys sorted at every level: the same settings always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Turns a command line into a local-exec provisioner that involves no shell: Terraform runs `interpreter`
 * with `command` appended as its last argument, so every element reaches the program verbatim and nothing is
 * ever quoted, split or expanded.
 */
function localExec(argv: readonly string[], when?: 'destroy'): LocalExecProvisioner {
  if (argv.length < 2) throw new RangeError('A provisioner command line needs an executable and at least one argument.');
  return {
    type: 'local-exec',
    interpreter: argv.slice(0, -1),
    command: argv[argv.length - 1],
    ...(when === undefined ? {} : { when }),
  };
}

function provisioners(spec: LifecycleSpec, recordedRef: (key: string) => string): LocalExecProvisioner[] {
  const list: LocalExecProvisioner[] = [];
  if (spec.onCreate !== undefined) list.push(localExec(spec.onCreate.map(escapeTemplate)));
  if (spec.onDestroy !== undefined) {
    list.push(localExec(spec.onDestroy.map((a) => {
      if (typeof a === 'string') return escapeTemplate(a);
      return `${escapeTemplate(a.prefix ?? '')}${'selfId' in a ? '${self.id}' : recordedRef(a.recorded)}`;
    }), 'destroy'));
  }
  return list;
}

function escapeTrigger(value: TriggerValue): TriggerValue {
  if (typeof value === 'string') return escapeTemplate(value);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeTemplate(v)]));
  return value;
}

/** What cdktf's `DataResource` says when Terraform is older than `terraform_data` (1.4) or missing. */
const TERRAFORM_DATA_HINT = 'The built-in Terraform data resource is only supported for Terraform >=1.4. Please upgrade your Terraform version.';

/** Stacks that already carry the one Terraform version check their `terraform_data` resources need. */
const versionChecked = new WeakSet<Construct>();

/** `scope`'s stack the first time it is asked about for `seen`, else undefined: stack-wide work runs once. */
function firstTimeFor(seen: WeakSet<Construct>, scope: Construct): TerraformStack | undefined {
  const stack = TerraformStack.of(scope);
  if (seen.has(stack)) return undefined;
  seen.add(stack);
  return stack;
}

/**
 * Renders `spec` as a `terraform_data` resource; the destroy provisioner reads `self.input.*`. cdktf's own
 * `DataResource` adds a `terraform version` check (a child process) per resource, which made a synth of 1,000
 * keys start 1,000 Terraform processes; the same resource written as a generic one, with one check per stack
 * and cdktf's message, proves the same thing. Where the framework's check is not found, its `DataResource`.
 */
export function terraformDataResource(scope: Construct, id: string, spec: LifecycleSpec, meta: LifecycleMeta = {}): TerraformResource {
  const triggers = Object.fromEntries(Object.entries(spec.triggers).map(([k, v]) => [k, escapeTrigger(v)]));
  // `input` is what a destroy provisioner may read (Terraform allows it only `self`); it repeats triggers.
  const input = spec.recorded.length === 0 ? undefined : Object.fromEntries(spec.recorded.map((k) => [k, triggers[k]]));
  const provisionerList = provisioners(spec, (k) => `\${self.input.${k}}`);
  const Validation = terraformVersionValidation();
  if (Validation === undefined) return withMeta(meta, (config) => new (framework().DataResource)(scope, id, { triggersReplace: triggers, input, provisioners: provisionerList, ...config }));
  firstTimeFor(versionChecked, scope)?.node.addValidation(new Validation('>=1.4', TERRAFORM_DATA_HINT));
  return withMeta(meta, (config) => {
    const resource = new (framework().TerraformResource)(scope, id, {
      terraformResourceType: 'terraform_data', terraformGeneratorMetadata: { providerName: 'terraform' }, provisioners: provisionerList, ...config,
    });
    if (input !== undefined) resource.addOverride('input', input);
    resource.addOverride('triggers_replace', triggers);
    return resource;
  });
}

/**
 * Renders `spec` as a `null_resource`; its `triggers` is a map of strings, so non-string settings are JSON
 * text, and the destroy provisioner reads `self.triggers.*`. Adds a `null` provider to the stack if it has none.
 */
export function nullResource(scope: Construct, id: string, spec: LifecycleSpec, meta: LifecycleMeta = {}): TerraformResource {
  const prebuilt = prebuiltNullProvider();
  ensureNullProvider(scope, prebuilt);
  const triggers = Object.fromEntries(
    Object.entries(spec.triggers).map(([k, v]) => [k, escapeTemplate(typeof v === 'string' ? v : canonicalJson(v))]),
  );
  const provisionerList = provisioners(spec, (k) => `\${self.triggers.${k}}`);
  if (prebuilt !== undefined) return withMeta(meta, (config) => new prebuilt.Resource(scope, id, { triggers, provisioners: provisionerList, ...config }));
  return withMeta(meta, (config) => {
    const resource = new (framework().TerraformResource)(scope, id, { terraformResourceType: 'null_resource', terraformGeneratorMetadata: NULL_PROVIDER_METADATA, provisioners: provisionerList, ...config });
    resource.addOverride('triggers', triggers);
    return resource;
  });
}

/** What `@cdktf/provider-null` 11 declares for hashicorp/null; the generic adapter declares the same. */
const NULL_PROVIDER_METADATA = { providerName: 'null', providerVersion: '3.2.4', providerVersionConstraint: '~> 3.0' };

interface PrebuiltNull {
  readonly Resource: new (scope: Construct, id: string, config: { triggers: Record<string, string>; lifecycle?: TerraformResourceLifecycle; provisioners: LocalExecProvisioner[] }) => TerraformResource;
  readonly NullProvider: new (scope: Construct, id: string) => Construct;
}

/** `@cdktf/provider-null` on cdktf when the app has it installed (it requires cdktf, so never on cdktn). */
function prebuiltNullProvider(): PrebuiltNull | undefined {
  if (frameworkName() !== 'cdktf') return undefined;
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Resource } = require('@cdktf/provider-null/lib/resource') as Pick<PrebuiltNull, 'Resource'>;
    const { NullProvider } = require('@cdktf/provider-null/lib/provider') as Pick<PrebuiltNull, 'NullProvider'>;
    /* eslint-enable @typescript-eslint/no-require-imports */
    return { Resource, NullProvider };
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Renders `spec` with the adapter for `type`. */
export function lifecycleResource(type: LifecycleResourceType, scope: Construct, id: string, spec: LifecycleSpec, meta: LifecycleMeta = {}): TerraformResource {
  return type === 'null_resource' ? nullResource(scope, id, spec, meta) : terraformDataResource(scope, id, spec, meta);
}

const NULL_PROVIDER_ID = 'thalassa-byok-null-provider';

/** Stacks known to have a `null` provider: the walk below is over the whole stack, so once per stack, not per key. */
const withNullProvider = new WeakSet<Construct>();

function ensureNullProvider(scope: Construct, prebuilt: PrebuiltNull | undefined): void {
  const stack = firstTimeFor(withNullProvider, scope);
  if (stack === undefined) return;
  const { TerraformProvider } = framework();
  const present = stack.node
    .findAll()
    .some((c) => TerraformProvider.isTerraformProvider(c) && c.terraformResourceType === 'null');
  if (present) return;
  if (prebuilt !== undefined) new prebuilt.NullProvider(stack, NULL_PROVIDER_ID);
  // TerraformProvider is abstract only to TypeScript: its synthesis of a provider without arguments is the
  // whole of what hashicorp/null needs.
  else new (class NullProvider extends TerraformProvider {})(stack, NULL_PROVIDER_ID, { terraformResourceType: 'null', terraformGeneratorMetadata: NULL_PROVIDER_METADATA, terraformProviderSource: 'null' });
}
