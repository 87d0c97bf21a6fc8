export const handler = async () => ({ todo: 'create' });
