/*
 * cli.h - shared helpers of the `water` command's subcommands.
 */
#ifndef WATER_CLI_H
#define WATER_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Reads a whole file; returns NULL and prints "water: PATH: reason" on
 * failure. The caller frees the buffer. */
uint8_t *cli_read_file(const char *path, size_t *len);

/* Prints "water: " and the message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_exec(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_dial(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_pt(int argc, char **argv);

#endif
