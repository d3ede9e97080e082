/* run.h — `nodenet-node [flags]`: run a node until SIGINT/SIGTERM or the console's "quit".
 *
 * Wiring only: flags -> node options, the seed (load or mint), one libev loop shared by the
 * node, the console on stdin and the signal watchers; logs to stderr. All daemon state lives in
 * one struct on nn_cmd_run's stack. Returns the process exit code: 0 after a graceful stop,
 * 2 for bad flags or input (one line on stderr), 1 for other start-up failures.
 */
#ifndef NN_CMD_RUN_H
#define NN_CMD_RUN_H

int nn_cmd_run(const char *prog, int argc, char **argv);
void nn_cmd_run_usage(void *file);

#endif
