import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';

// Root hooks for every suite: the cpu backend is the reference, and tf.js's
// "install the node backend" banner is silenced (PROD only mutes warnings).
export const mochaHooks = {
  async beforeAll(): Promise<void> {
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
  },
};
