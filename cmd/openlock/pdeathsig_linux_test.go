package main

const pdeathsig = true
