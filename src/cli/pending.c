/*
 * pending.c - subcommands whose layers are not built yet. Each says so
 * plainly and fails; they are replaced as the layers land.
 */
#include "cli.h"

#include "water/wasm.h"

static int not_yet(const char *what)
{
    cli_error("%s is not implemented yet in this build", what);
    return 2;
}

int cmd_dial(int argc, char **argv) { (void)argc; (void)argv; return not_yet("dial"); }
int cmd_listen(int argc, char **argv) { (void)argc; (void)argv; return not_yet("listen"); }
int cmd_relay(int argc, char **argv) { (void)argc; (void)argv; return not_yet("relay"); }
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; return not_yet("run"); }
int cmd_inspect(int argc, char **argv) { (void)argc; (void)argv; return not_yet("inspect"); }

int exec_wasi(const char *path, wasm_module *m, int argc, char **argv,
              const char **dirs, int ndirs, const char **envs, int nenvs,
              uint64_t fuel, uint32_t max_pages)
{
    (void)path; (void)m; (void)argc; (void)argv; (void)dirs; (void)ndirs;
    (void)envs; (void)nenvs; (void)fuel; (void)max_pages;
    return not_yet("running WASI command modules (exec without --invoke)");
}
