<?php
// PHP's phpredis session handler against sessiond. Run by ../php_test.go:
//
//   php -d session.save_handler=redis -d session.save_path=tcp://127.0.0.1:PORT \
//       session.php ACTION SESSION_ID [VALUE]
//
// ACTION is write (store VALUE under "user" and bump "count"), hold (write
// after HOLD_MS milliseconds: session.php hold SID VALUE HOLD_MS), read (print
// the session as JSON), destroy, or check (validate_sid in strict mode).
// Output: one JSON line; the exit code is 0 when the session calls
// succeeded.
ini_set('session.use_cookies', '0');
ini_set('session.use_only_cookies', '0');
ini_set('session.cache_limiter', '');

[$script, $action, $sid] = array_pad($argv, 3, '');
$value = $argv[3] ?? '';
if ($sid !== '') {
    session_id($sid);
}

$errors = [];
set_error_handler(function ($no, $str) use (&$errors) {
    $errors[] = $str;
    return true;
});

$out = ['action' => $action];
try {
    $started = session_start();
    $out['started'] = $started;
    $out['id'] = session_id();
    switch ($action) {
    case 'hold':
        // write, after keeping the session (and its lock) open for $argv[4] ms
        $out['started_at'] = microtime(true);
        usleep((int)($argv[4] ?? 0) * 1000);
        // fall through
    case 'write':
        $out['started_at'] = $out['started_at'] ?? microtime(true);
        $_SESSION['user'] = $value;
        $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
        $_SESSION['bin'] = "\x00\xff\r\n";
        $out['closed'] = session_write_close();
        $out['closed_at'] = microtime(true);
        break;
    case 'read':
        $sess = $_SESSION;
        $out['bin_ok'] = ($sess['bin'] ?? null) === "\x00\xff\r\n";
        unset($sess['bin']);
        $out['session'] = (object)$sess;
        $out['closed'] = session_write_close();
        break;
    case 'destroy':
        $out['destroyed'] = session_destroy();
        break;
    case 'touch':
        // lazy_write: unchanged data only refreshes the TTL (EXPIRE).
        $out['closed'] = session_write_close();
        break;
    default:
        throw new Exception("unknown action $action");
    }
} catch (Throwable $e) {
    $out['exception'] = get_class($e) . ': ' . $e->getMessage();
}
$out['errors'] = $errors;
echo json_encode($out), "\n";
exit(isset($out['exception']) ? 2 : 0);
