"""nbgrader configuration for the ftcourse exercises (run nbgrader commands from this folder)."""
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "ftcourse"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.db_url = f"sqlite:///{Path(__file__).resolve().parent / 'gradebook.db'}"
# Students see this where a solution was removed.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Training cells take longer than nbgrader's 30 s default.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
