<#
.SYNOPSIS
Starts astcti client at this Windows user's logon, as a Scheduled Task.

.DESCRIPTION
Run it once as the operator (no administrator rights needed), in PowerShell:

  powershell -ExecutionPolicy Bypass -File install-astcti-client.ps1 -Server cti.example:5039 -User alice

It asks for the operator's password and keeps it in
%LOCALAPPDATA%\astcti\password, encrypted with DPAPI for this Windows
account on this PC: no other account can read it. It copies itself to
%LOCALAPPDATA%\astcti\astcti-client.ps1 and registers the task
"astcti client", which runs that copy with -Run at each logon, in a hidden
window. -Run puts the password in ASTCTI_PASSWORD for astcti.exe alone
(never on a command line) and starts the client again after exit status 1
(an error) or 5 (server unreachable); after 0 (quit), 2 (bad flags),
3 (login refused), 4 (this PC's MAC refused) or 6 (the operator logged in
on another PC) it stops, since starting again cannot help (docs/asterisk.md,
"Operators' PCs"). Logs: %LOCALAPPDATA%\astcti\task.log, and the client's
output of its latest start in client.out.log and client.err.log.

Run it again to change the password or the settings. -Uninstall removes the
task and its files.

.PARAMETER Server
The astcti server's seat address, host[:port] (port 5039 if none).

.PARAMETER User
The operator's user name.

.PARAMETER Mac
This PC's MAC address, which names its seat: auto (the default: the first
real network interface), none (an operator with a fixed seat), or
00:11:22:33:44:01.

.PARAMETER Exe
The astcti program (default: C:\Program Files\astcti\astcti.exe).

.PARAMETER Tls
Connect with TLS (a server behind a TLS proxy).

.PARAMETER Uninstall
Stop and remove the task, the stored password and the logs.

.PARAMETER Run
Used by the task: start the client and keep it started.
#>
param(
    [string] $Server,
    [string] $User,
    [string] $Mac = 'auto',
    [string] $Exe = (Join-Path $env:ProgramFiles 'astcti\astcti.exe'),
    [switch] $Tls,
    [switch] $Uninstall,
    [switch] $Run
)

$ErrorActionPreference = 'Stop'
$TaskName = 'astcti client'
$Dir = Join-Path $env:LOCALAPPDATA 'astcti'
$PasswordFile = Join-Path $Dir 'password'
$InstalledScript = Join-Path $Dir 'astcti-client.ps1'
$TaskLog = Join-Path $Dir 'task.log'
$OutLog = Join-Path $Dir 'client.out.log'
$ErrLog = Join-Path $Dir 'client.err.log'
# Exit status of astcti client after which it is started again, and the
# pause before that.
$RestartOn = @(1, 5)
$RestartPause = 30

function Write-TaskLog([string] $Message) {
    Add-Content -LiteralPath $TaskLog -Value ('{0:yyyy-MM-dd HH:mm:ss} {1}' -f (Get-Date), $Message)
}

# Why the client was not started again, by exit status.
function Get-StopReason([int] $Code) {
    switch ($Code) {
        0 { 'the operator quit' }
        2 { 'bad flags or arguments: run install-astcti-client.ps1 again' }
        3 { 'login refused (user name, password, operator disabled, or too many failed logins): run install-astcti-client.ps1 again with the right password' }
        4 { "the server refused this PC's MAC address: configure the seat, or run install-astcti-client.ps1 again with -Mac" }
        6 { 'the operator logged in on another PC' }
        default { 'see client.err.log' }
    }
}

function Start-Client {
    if (-not (Test-Path -LiteralPath $PasswordFile)) {
        Write-TaskLog "no stored password ($PasswordFile): run install-astcti-client.ps1 again"
        return
    }
    # DPAPI: only this Windows account on this PC can decrypt it. The
    # variable is this process's, inherited by astcti.exe alone.
    $secure = Get-Content -LiteralPath $PasswordFile | ConvertTo-SecureString
    $env:ASTCTI_PASSWORD = [System.Net.NetworkCredential]::new('', $secure).Password
    $clientArgs = @('client', '--server', $Server, '--user', $User, '--mac', $Mac)
    if ($Tls) {
        $clientArgs += '--tls'
    }
    while ($true) {
        Write-TaskLog "starting $Exe $($clientArgs -join ' ')"
        $p = Start-Process -FilePath $Exe -ArgumentList $clientArgs -NoNewWindow -Wait -PassThru `
            -RedirectStandardOutput $OutLog -RedirectStandardError $ErrLog
        $code = $p.ExitCode
        if ($RestartOn -contains $code) {
            Write-TaskLog "astcti client ended with exit status ${code}: starting it again in $RestartPause s"
            Start-Sleep -Seconds $RestartPause
            continue
        }
        Write-TaskLog "astcti client ended with exit status ${code}: not started again until the next logon ($(Get-StopReason $code))"
        return
    }
}

# Stop-Client stops the task and any client it left running.
function Stop-Client {
    Stop-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    Get-Process -Name astcti -ErrorAction SilentlyContinue | Where-Object { $_.Path -eq $Exe } | Stop-Process -Force
}

function Install-Client {
    if (-not $Server -or -not $User) {
        throw 'give -Server and -User, e.g. -Server cti.example:5039 -User alice'
    }
    if (-not (Test-Path -LiteralPath $Exe)) {
        throw "no astcti program at $Exe (install it there, or give -Exe)"
    }
    New-Item -ItemType Directory -Force -Path $Dir | Out-Null
    $secure = Read-Host -AsSecureString "Password of operator $User"
    $secure | ConvertFrom-SecureString | Set-Content -LiteralPath $PasswordFile
    if ($PSCommandPath -ne $InstalledScript) {
        Copy-Item -LiteralPath $PSCommandPath -Destination $InstalledScript -Force
    }

    $me = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
    $taskArgs = @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-WindowStyle', 'Hidden',
        '-File', "`"$InstalledScript`"", '-Run', '-Server', $Server, '-User', $User, '-Mac', $Mac, '-Exe', "`"$Exe`"")
    if ($Tls) {
        $taskArgs += '-Tls'
    }
    $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ($taskArgs -join ' ')
    $trigger = New-ScheduledTaskTrigger -AtLogOn -User $me
    $principal = New-ScheduledTaskPrincipal -UserId $me -LogonType Interactive -RunLevel Limited
    # No time limit (the default stops a task after 3 days), laptops on
    # battery too, one instance, and a restart if the task itself fails.
    $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) `
        -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -MultipleInstances IgnoreNew `
        -RestartCount 3 -RestartInterval (New-TimeSpan -Minutes 1)
    Stop-Client
    Register-ScheduledTask -TaskName $TaskName -Description 'astcti seat client: screen pops for the calls of this seat''s phone' `
        -Action $action -Trigger $trigger -Principal $principal -Settings $settings -Force | Out-Null
    Start-ScheduledTask -TaskName $TaskName
    Write-Host "Task '$TaskName' registered for $me and started; logs in $Dir"
}

function Uninstall-Client {
    Stop-Client
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false -ErrorAction SilentlyContinue
    foreach ($f in @($PasswordFile, $InstalledScript, $TaskLog, $OutLog, $ErrLog)) {
        Remove-Item -LiteralPath $f -Force -ErrorAction SilentlyContinue
    }
    Write-Host "Task '$TaskName' and its files removed"
}

if ($Run) {
    Start-Client
} elseif ($Uninstall) {
    Uninstall-Client
} else {
    Install-Client
}
# The task's result is 0 whatever the client's exit status was: the
# Scheduled Task's own restart setting is for a task that failed to run,
# not for a client that stopped on purpose (task.log says why).
exit 0
