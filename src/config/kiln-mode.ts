/** Whether the pipeline optimises for inference or for a training loop. */
export type KilnMode = 'inference' | 'training';
