@echo off
rem The `tokentray` command of the installed app: the app binary cannot run Node (RunAsNode fuse is off),
rem so the CLI runs on the system Node.js from the unpacked copy inside the app.
where node >nul 2>nul || (echo tokentray: the command line needs Node.js 20 or newer from https://nodejs.org 1>&2 & exit /b 127)
node "%~dp0..\app.asar.unpacked\dist\cli\tokentray.cjs" %*
