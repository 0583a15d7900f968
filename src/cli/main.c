/*
 * main.c - the `water` command: dispatches to its subcommands.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"dial", cmd_dial, "carry local TCP connections to a remote through a transport"},
    {"listen", cmd_listen, "accept transport connections and forward the plaintext"},
    {"relay", cmd_relay, "run a transport's relay role between a listener and a remote"},
    {"run", cmd_run, "run a module that drives its own networking"},
    {"pt", cmd_pt, "run as a Tor pluggable transport (managed proxy)"},
    {"inspect", cmd_inspect, "show a module's ABI version, roles, imports and exports"},
    {"exec", cmd_exec, "run a WASI command module, or call one exported function"},
};

static void usage(FILE *out)
{
    fputs("usage: water COMMAND [OPTIONS]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'water COMMAND --help' describes a command.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("water 0.1.0");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}
