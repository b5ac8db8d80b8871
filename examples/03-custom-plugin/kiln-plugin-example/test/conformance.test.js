'use strict';
// The plugin's own test, with tfjs-kiln's conformance kit:  npm test  (mocha test/conformance.test.js)
const { describePluginConformance } = require('tfjs-kiln/testing');
const { PruneSmallWeights } = require('..');

describePluginConformance(PruneSmallWeights, {
  models: ['mlp', 'custom-layer', 'shogi-resnet'], // zoo models, built small with seeded weights
  options: { threshold: 0.01 }, // as under `options:` in kiln.yaml
});
