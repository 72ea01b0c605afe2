"""qscript: run Qlik load scripts outside Qlik, with tables as pandas DataFrames."""

from qscript.api import Result, Session, run, run_file
from qscript.errors import ConfigError, QScriptError, ScriptError

__version__ = "0.1.0"

__all__ = ["ConfigError", "QScriptError", "Result", "ScriptError", "Session", "__version__", "run", "run_file"]
