// The TypeORM CLI's data source (migration:run, migration:generate, ...), built from the
// same settings and options as the app.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadSettings } from './src/config/settings.js';
import { dataSourceOptions } from './src/database/data-source-options.js';

export default new DataSource(dataSourceOptions(loadSettings(process.env)));
