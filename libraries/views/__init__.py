"""Library pages: ``reading`` for every signed-in portal user, ``maintenance`` for the state
administrator."""
