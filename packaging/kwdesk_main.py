"""The packaged app's entry point (PyInstaller runs this file).

Besides starting kwdesk (the window, or the CLI when given a command), the executable
serves the child processes kwdesk starts: multiprocessing's fork server and workers
(freeze_support) and llama.cpp's converter (there is no separate python in the package).
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from kwdesk.core.models.converter_runner import RUN_CONVERTER_FLAG, run_converter

    if len(sys.argv) > 1 and sys.argv[1] == RUN_CONVERTER_FLAG:
        from kwdesk.core.models.gguf import converter_dir

        run_converter(converter_dir(), sys.argv[2:])
        sys.exit(0)
    from kwdesk.cli import main

    sys.exit(main())
