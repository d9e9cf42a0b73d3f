package main

// pdeathsig: on Windows the command dies with openlock (its job object).
const pdeathsig = true
