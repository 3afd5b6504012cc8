import sys

from core.logs import library_warnings_to_log

library_warnings_to_log()  # before the imports that warn: the person's stderr holds only Mercury's sentences

from core.cli import main  # noqa: E402

sys.exit(main())
