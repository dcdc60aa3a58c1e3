"""What each notebook's exercise checks feed to :func:`helpers.check_exercise`: the fixed inputs, what to compare
after a call, and the plausible mistakes with the hint that names each. One module per notebook, named as its
lessons module (``helpers.lessons.dcgan`` holds the solutions, ``helpers.exercise_cases.dcgan`` their checks'
inputs), kept out of the notebooks so a check cell stays two lines and no solution shows in the student edition.
"""
