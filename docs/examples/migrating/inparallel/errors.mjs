// Exceptions cross back to the caller as inparallel's did with tblib: class, message,
// stack and custom fields
import { task } from 'polytask';

const connect = task((server) => {
  const error = new Error(`cannot reach ${server}`);
  error.code = 'ECONNREFUSED';
  throw error;
});
try {
  await connect('alpha.local');
} catch (error) {
  console.log(error.name, error.code, error.message);   // Error ECONNREFUSED cannot reach alpha.local
}
