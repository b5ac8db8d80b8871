/**
 * tfjs-kiln/testing: the plugin author's kit. `describePluginConformance` declares a
 * mocha suite that checks a plugin against Kiln's plugin contract on the zoo models (and
 * models of your own, of any registered format: `graphModelFixture` loads a graph model);
 * `runPluginConformance` runs the same checks and returns the report.
 */
import 'reflect-metadata';

export { CONFORMANCE_CHECKS, MODEL_CHECK_IDS, PLUGIN_CHECK_IDS, type ConformanceCheck, type ConformanceCheckId } from './checks.js';
export { CONFORMANCE_CONFIG, type ConformanceModel, type ConformanceOptions, type ConformanceTarget } from './options.js';
export { graphModelFixture, type GraphModelFixtureOptions } from './graph-model-fixture.js';
export { type ConformanceReport, type ModelConformance } from './report.js';
export { ConformanceSession, runPluginConformance } from './session.js';
export {
  ConformanceError,
  describePluginConformance,
  type DescribeConformanceOptions,
  type MochaContextLike,
  type MochaLike,
} from './describe-conformance.js';
// The models the kit checks on, for tests of your own.
export { listZoo, ZOO, zooSampleInputs, type ZooBuildOptions, type ZooEntry, type ZooName } from '../zoo/index.js';
