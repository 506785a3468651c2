"""`xbot demo`: a driver over the step functions on the sandbox's virtual clock (outside `services/`)."""
