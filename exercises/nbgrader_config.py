"""nbgrader configuration for the ftcourse exercises (run nbgrader commands from this folder)."""
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "ftcourse"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.db_url = f"sqlite:///{Path(__file__).resolve().parent / 'gradebook.db'}"
# Students see this where a solution was removed.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# The known wrong answers next to each source notebook (tools/exercise_variants.py) are not handed out.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.wrong.py"]
# Training cells take longer than nbgrader's 30 s default. `ftcourse grade` uses this as the per-cell limit
# (capped by its per-submission --timeout) and runs each submission's kernel in a sandbox (exercises/README.md).
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
# A cell over its limit is interrupted and the notebook goes on, so the later questions are still graded.
c.Execute.interrupt_on_timeout = True
# Keep the graded notebooks (and so the feedback) readable when student code prints without end.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
