/* main: dosnap's entry point; everything happens in cli_main(). */
#include "dosnap/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
