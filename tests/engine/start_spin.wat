(module
  (func $spin (loop $l (br $l)))
  (start $spin)
)
