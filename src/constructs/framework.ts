/**
 * The one door to the CDK framework: CDK for Terraform (`cdktf` 0.21) or its maintained fork CDK Terrain
 * (`cdktn` 0.24), whichever the user's app runs on. Every other file of `constructs/` imports the framework's
 * classes from here, never from `cdktf` or `cdktn`, so that with only one of them installed nothing of the
 * other is required or loaded.
 *
 * The framework is chosen at first use, when the user's app has already created its `App` (a construct
 * needs a scope): the only one installed, or — with both installed, as in a migration — the one the app has
 * loaded. The types below describe what this package uses of either, structurally, so this package's
 * declarations name neither framework and type-check against the one the user has.
 */
import type { Construct, IConstruct, IValidation } from 'constructs';

/** The framework names this package can run on. */
export type FrameworkName = 'cdktf' | 'cdktn';

/** Something a resource can depend on (both frameworks' `ITerraformDependable`). */
export interface ITerraformDependable {
  readonly fqn: string;
}

/** The lifecycle meta-arguments this package sets. */
export interface TerraformResourceLifecycle {
  readonly createBeforeDestroy?: boolean;
  readonly preventDestroy?: boolean;
}

/** A `local-exec` provisioner (both frameworks' `LocalExecProvisioner`, the parts this package sets). */
export interface LocalExecProvisioner {
  readonly type: 'local-exec';
  readonly command: string;
  readonly interpreter?: string[];
  readonly when?: 'destroy';
}

/** A stack of either framework. */
export interface TerraformStack extends Construct {
  readonly node: Construct['node'];
}

/** A resource of either framework: what this package exposes (`ImportedKmsKey.resource`, …) and uses. */
export interface TerraformResource extends Construct, ITerraformDependable {
  readonly terraformResourceType: string;
  readonly friendlyUniqueId: string;
  dependsOn?: string[];
  getStringAttribute(terraformAttribute: string): string;
  interpolationForAttribute(terraformAttribute: string): unknown;
  addOverride(path: string, value: unknown): void;
}

/** What a custom synthesis step receives. */
export interface ISynthesisSession {
  readonly outdir: string;
  readonly manifest: { forStack(stack: TerraformStack): { readonly workingDirectory: string } };
}

interface ResourceConfig {
  readonly provisioners?: LocalExecProvisioner[];
  readonly lifecycle?: TerraformResourceLifecycle;
  readonly dependsOn?: ITerraformDependable[];
}

/** What this package uses of a framework module; `cdktf` and `cdktn` both provide it. */
export interface Framework {
  readonly App: { of(construct: IConstruct): { readonly outdir: string } };
  readonly Annotations: { of(construct: IConstruct): { addWarning(message: string): void } };
  readonly TerraformStack: { of(construct: IConstruct): TerraformStack };
  readonly Token: { asString(value: unknown): string; isUnresolved(value: unknown): boolean };
  readonly Lazy: { stringValue(producer: { produce(context: unknown): string | undefined }): string };
  readonly DataResource: new (scope: Construct, id: string, config: ResourceConfig & {
    readonly triggersReplace?: { [key: string]: unknown }; readonly input?: { [key: string]: unknown };
  }) => TerraformResource;
  readonly TerraformResource: new (scope: Construct, id: string, config: ResourceConfig & {
    readonly terraformResourceType: string;
    readonly terraformGeneratorMetadata?: { readonly providerName: string; readonly providerVersion?: string; readonly providerVersionConstraint?: string };
  }) => TerraformResource;
  readonly TerraformProvider: (abstract new (scope: Construct, id: string, config: {
    readonly terraformResourceType: string;
    readonly terraformGeneratorMetadata?: { readonly providerName: string; readonly providerVersion?: string; readonly providerVersionConstraint?: string };
    readonly terraformProviderSource?: string;
  }) => Construct) & { isTerraformProvider(x: unknown): x is Construct & { readonly terraformResourceType: string } };
}

/** The framework's synthesizer hook (`lib/synthesize/synthesizer`, not in either index; their assets use it). */
interface Synthesizer {
  addCustomSynthesis(construct: IConstruct, synthesis: { onSynthesize(session: ISynthesisSession): void }): void;
}

/** The framework's Terraform version check (`lib/validations/…`, not in either index): runs `terraform version`. */
export type TerraformVersionValidation = new (versionConstraint: string, hint: string) => IValidation;

interface Loaded {
  readonly name: FrameworkName;
  readonly module: Framework;
  readonly synthesizer: Synthesizer;
  /** Undefined where the framework does not have it at that path: callers then keep the framework's own checks. */
  readonly validateTerraformVersion: TerraformVersionValidation | undefined;
}

const NAMES: readonly FrameworkName[] = ['cdktn', 'cdktf'];
let loaded: Loaded | undefined;

function resolvable(name: FrameworkName): string | undefined {
  try {
    return require.resolve(name);
  } catch {
    return undefined;
  }
}

/** Picks and loads the framework (once): the only one installed, or the one the app has loaded. */
function load(): Loaded {
  if (loaded !== undefined) return loaded;
  const installed = NAMES.map((name) => ({ name, main: resolvable(name) })).filter((c): c is { name: FrameworkName; main: string } => c.main !== undefined);
  const inUse = installed.filter((c) => require.cache[c.main] !== undefined);
  const chosen = installed.length === 1 ? installed[0] : inUse.length === 1 ? inUse[0] : undefined;
  if (chosen === undefined) {
    throw new Error(installed.length === 0
      ? 'cdktf-thalassa-byok needs CDK Terrain (npm install cdktn) or CDK for Terraform (npm install cdktf) in the app that uses it; neither was found.'
      : 'cdktf-thalassa-byok found both cdktn and cdktf installed and cannot tell which one the app uses: create the App (from the framework you use) before the first ImportedKmsKey.');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(chosen.name) as Framework;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const synthesizer = require(`${chosen.name}/lib/synthesize/synthesizer`) as Synthesizer;
  return (loaded = { name: chosen.name, module, synthesizer, validateTerraformVersion: versionValidation(chosen.name) });
}

function versionValidation(name: FrameworkName): TerraformVersionValidation | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${name}/lib/validations/validate-terraform-version`) as { ValidateTerraformVersion?: TerraformVersionValidation }).ValidateTerraformVersion;
  } catch {
    return undefined;
  }
}

/** The framework's `ValidateTerraformVersion`, or undefined where it is not at the path this package knows. */
export function terraformVersionValidation(): TerraformVersionValidation | undefined {
  return load().validateTerraformVersion;
}

/** The framework module the app runs on. */
export function framework(): Framework {
  return load().module;
}

/** `'cdktf'` or `'cdktn'`: which framework the app runs on. */
export function frameworkName(): FrameworkName {
  return load().name;
}

// The classes and functions the rest of constructs/ uses, each resolved on use (not at import), so that
// importing this package loads no framework until the app has chosen one.
export const App: Framework['App'] = { of: (c) => framework().App.of(c) };
export const Annotations: Framework['Annotations'] = { of: (c) => framework().Annotations.of(c) };
export const TerraformStack: Framework['TerraformStack'] = { of: (c) => framework().TerraformStack.of(c) };
export const Token: Framework['Token'] = {
  asString: (v) => framework().Token.asString(v),
  isUnresolved: (v) => framework().Token.isUnresolved(v),
};
export const Lazy: Framework['Lazy'] = { stringValue: (p) => framework().Lazy.stringValue(p) };

/**
 * `resource` as an entry of another resource's `dependsOn`, rendered `<type>.<logical id>` as the framework's
 * `dependable()` renders it, but without its two stack traces (one captured when the token is made, one when it
 * resolves), which were a tenth of a 1,000-key synth's own work. Same stack only: it makes no cross-stack reference.
 */
export function dependencyOn(resource: TerraformResource): string {
  return Token.asString({ creationStack: [], resolve: () => `${resource.terraformResourceType}.${resource.friendlyUniqueId}` });
}
export const addCustomSynthesis: Synthesizer['addCustomSynthesis'] = (c, s) => load().synthesizer.addCustomSynthesis(c, s);
