package service

// EventMaintenance is a step of a planned maintenance window.
const EventMaintenance = "maintenance"
