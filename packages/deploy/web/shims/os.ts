/** node:os in the page: one core (the page runs the engine on its own thread). */
export const availableParallelism = (): number => 1;
export const cpus = (): unknown[] => [{}];
export default { availableParallelism, cpus };
