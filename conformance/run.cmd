@echo off
rem Runs every conformance test in this folder against this Windows
rem installation's own DLLs, then prints each test file's summary line:
rem   PID:name: N tests executed (T marked as todo, F as flaky, E failures), S skipped.
rem Each test's full output is kept in <name>.log next to it.
setlocal enabledelayedexpansion
cd /d "%~dp0"
set failed=0
if exist summary.txt del summary.txt
for %%f in (*.exe) do (
    echo == %%f
    "%%f" > "%%~nf.log" 2>&1
    set rc=!errorlevel!
    type "%%~nf.log"
    set found=0
    for /f "delims=" %%l in ('findstr /c:" tests executed (" "%%~nf.log"') do (
        echo %%f: %%l>> summary.txt
        set found=1
    )
    if "!found!"=="0" echo %%f: no summary line, it may have crashed>> summary.txt
    if not "!rc!"=="0" (
        echo %%f: exit status !rc!>> summary.txt
        set /a failed+=1
    )
)
echo.
echo ===== summary =====
type summary.txt
echo !failed! test file^(s^) with failures.
if not "!failed!"=="0" exit /b 1
exit /b 0
